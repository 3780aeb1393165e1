// The unit tests link libposthorn.a and t/unit only; smtpd's engine lives in
// the program's directory, so its sources are compiled here once, for the
// tests in t/unit/smtpd/ (main.cc, with its main(), is left out).
#include "smtpd/params.cc"
#include "smtpd/session.cc"
#include "smtpd/networks.cc"
