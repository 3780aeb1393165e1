// lib/config/params.cc - the registry table (see params.h).
//
// Defaults are Postfix's where the concept is the same, so that a Postfix
// administrator's expectations hold; where Posthorn departs, the doc line says
// so (mynetworks: loopback only; hopcount_limit: 100 as RFC 5321 6.3 advises).
// Entries are grouped by topic; find_param() does not depend on the order.
#include "lib/config/params.h"

#include <algorithm>
#include <vector>


namespace posthorn::config {

namespace {

#ifdef POSTHORN_WITHOUT_BDB
constexpr std::string_view kDbType = "lmdb";
#else
constexpr std::string_view kDbType = "hash";
#endif

constexpr Bounds kAny{};
constexpr Bounds kNonNeg{0, {}};
constexpr Bounds kPositive{1, {}};
constexpr Bounds kReplyCode{400, 599};
constexpr Bounds kReject5{500, 599};

using T = Type;

constexpr Param kParams[] = {
  // Identity of this system.
  {"myhostname", T::string, "the host's name", kAny, "Fully-qualified name of this host; default from gethostname().", {}, kComputed},
  {"mydomain", T::string, "myhostname less its first label", kAny, "Internet domain of this host; \"localdomain\" when myhostname has no dot.", {}, kComputed},
  {"myorigin", T::string, "$myhostname", kAny, "Domain that locally posted mail appears to come from.", {}},
  {"mydestination", T::list, "$myhostname, localhost.$mydomain, localhost", kAny, "Domains delivered locally (local accounts and aliases).", {}},
  {"mynetworks", T::list, "127.0.0.0/8, [::1]/128", kAny, "Trusted client networks; Posthorn's default is loopback only.", {}},
  {"inet_interfaces", T::list, "all", kAny, "Addresses that inet services listen on when master.cf names none.", {}},
  {"inet_protocols", T::list, "all", kAny, "Address families used for listening and delivery.", "all|ipv4|ipv6"},
  {"mail_name", T::string, "Posthorn", kAny, "Name of the mail system, used in the SMTP greeting and in bounces.", {}},
  {"relayhost", T::string, "", kAny, "Next hop for non-local mail: host, [host], [host]:port; empty for direct MX delivery.", {}},
  {"relay_domains", T::list, "", kAny, "Domains this system relays mail to, besides its own.", {}},
  {"relay_recipient_maps", T::table_list, "", kAny, "Valid recipients in relay_domains; empty accepts all.", {}},
  {"proxy_interfaces", T::list, "", kAny, "Addresses of proxies or NAT devices that forward mail to this host.", {}},

  // Files, directories and accounts.
  {"config_directory", T::string, "the directory main.cf was read from", kAny, "Directory of main.cf and master.cf (posthorn -c DIR or MAIL_CONFIG).", {}, kComputed},
  {"queue_directory", T::string, "/var/spool/posthorn", kAny, "Spool directory; a relative path is taken from config_directory.", {}},
  {"data_directory", T::string, "/var/lib/posthorn", kAny, "Directory of the master lock and caches; relative to config_directory if relative.", {}},
  {"daemon_directory", T::string, "/usr/lib/posthorn", kAny, "Directory of the daemon programs that master.cf names.", {}},
  {"mail_owner", T::string, "posthorn", kAny, "Account that owns the queue and runs most daemons; never root.", {}},
  {"setgid_group", T::string, "postdrop", kAny, "Group of postdrop and of the maildrop directory.", {}},
  {"command_directory", T::string, "/usr/sbin", kAny, "Directory of posthorn, sendmail and postdrop; sendmail runs postdrop from here.", {}},
  {"alternate_config_directories", T::list, "", kAny, "Configuration directories besides the default that the set-group-ID postdrop accepts from any user.", {}},
  {"default_privs", T::string, "nobody", kAny, "Rights of deliveries to commands and files when no user applies.", {}},
  {"sendmail_path", T::string, "/usr/sbin/sendmail", kAny, "Path of the sendmail-compatible command.", {}},
  {"newaliases_path", T::string, "/usr/bin/newaliases", kAny, "Path of the newaliases command.", {}},
  {"mailq_path", T::string, "/usr/bin/mailq", kAny, "Path of the mailq command.", {}},
  {"default_database_type", T::string, kDbType, kAny, "Table type that posthorn map and newaliases build by default (lmdb in builds without Berkeley DB).", "hash|btree|lmdb"},
  {"lmdb_map_size", T::size, "16777216", {1 << 20, {}}, "Initial size of lmdb: tables in bytes; they grow as needed.", {}},
  {"berkeley_db_create_buffer_size", T::size, "16777216", kPositive, "Berkeley DB cache while building a table.", {}},
  {"berkeley_db_read_buffer_size", T::size, "131072", kPositive, "Berkeley DB cache while reading a table.", {}},

  // Logging.
  {"maillog_file", T::string, "", kAny, "Log file instead of syslog; \"-\" or /dev/stderr logs to standard error.", {}},
  {"maillog_format", T::string, "text", kAny, "Log line format: Postfix-shaped text, or one JSON object per line.", "text|json"},
  {"syslog_name", T::string, "posthorn", kAny, "Prefix of program names in log lines (posthorn/smtpd).", {}},
  {"syslog_facility", T::string, "mail", kAny, "Syslog facility.", "mail|user|daemon|local0|local1|local2|local3|local4|local5|local6|local7"},
  {"debug_peer_list", T::list, "", kAny, "Clients and servers whose sessions are logged in more detail.", {}},
  {"debug_peer_level", T::count, "2", kPositive, "Extra verbosity for debug_peer_list.", {}},

  // Limits shared by several programs.
  {"message_size_limit", T::size, "10240000", kNonNeg, "Largest message in bytes, envelope included; 0 means no limit.", {}},
  {"header_size_limit", T::size, "102400", {1024, {}}, "Largest message header in bytes; the rest of an oversized header is dropped.", {}},
  {"line_length_limit", T::size, "2048", {512, {}}, "Longest line kept whole when mail is received; longer ones are split.", {}},
  {"mime_nesting_limit", T::count, "100", kPositive, "Deepest multipart nesting that is parsed.", {}},
  {"hopcount_limit", T::count, "100", kPositive, "Most Received: headers before mail is bounced as looping (RFC 5321 6.3).", {}},
  {"recipient_delimiter", T::string, "", kAny, "Characters that separate a user name from an address extension (user+ext).", {}},
  {"smtputf8_enable", T::boolean, "yes", kAny, "Support SMTPUTF8 (RFC 6531) in smtpd and smtp.", {}},
  {"strict_rfc821_envelopes", T::boolean, "no", kAny, "Require angle brackets and nothing else in MAIL FROM and RCPT TO.", {}},
  {"allow_untrusted_routing", T::boolean, "no", kAny, "Forward mail with sender-specified routing from untrusted clients.", {}},
  {"soft_bounce", T::boolean, "no", kAny, "Turn permanent delivery failures into deferrals (for testing).", {}},
  {"disable_mime_output_conversion", T::boolean, "no", kAny, "Defer rather than convert 8-bit mail for servers without 8BITMIME.", {}},
  {"always_add_missing_headers", T::boolean, "no", kAny, "Add From, To, Date and Message-ID to mail from remote clients too.", {}},
  {"queue_minfree", T::size, "0", kNonNeg, "Free space in the queue file system below which mail is refused; 0 means message_size_limit * 1.5.", {}},

  // Processes and master.
  {"default_process_limit", T::count, "100", kPositive, "Default for the maxproc column of master.cf.", {}},
  {"max_use", T::count, "100", kPositive, "Jobs a daemon process serves before it exits.", {}},
  {"max_idle", T::time, "100s", kPositive, "Idle time after which a daemon process exits.", {}},
  {"service_throttle_time", T::time, "60s", kPositive, "Pause before a service that failed at start-up is spawned again.", {}},
  {"daemon_timeout", T::time, "18000s", kPositive, "Longest time a daemon may spend on one request.", {}},
  {"ipc_timeout", T::time, "3600s", kPositive, "Longest wait for a reply from another Posthorn process.", {}},
  {"ipc_idle", T::time, "5s", kPositive, "Idle time after which a client closes a connection to another Posthorn process.", {}},
  {"trigger_timeout", T::time, "10s", kPositive, "Longest time to wake a service through its socket or fifo.", {}},
  {"in_flow_delay", T::time, "1s", {0, 10}, "Pause of a mail submission when qmgr falls behind.", {}},
  {"command_time_limit", T::time, "1000s", kPositive, "Longest run of a |command delivery.", {}},
  {"duplicate_filter_limit", T::count, "1000", kNonNeg, "Recipients remembered to drop duplicates while expanding aliases.", {}},

  // Address rewriting and routing.
  {"alias_maps", T::table_list, "$default_database_type:/etc/aliases", kAny, "Alias tables for local delivery.", {}},
  {"alias_database", T::table_list, "$default_database_type:/etc/aliases", kAny, "Alias tables that newaliases builds.", {}},
  {"canonical_maps", T::table_list, "", kAny, "Address rewriting for header and envelope addresses.", {}},
  {"sender_canonical_maps", T::table_list, "", kAny, "Address rewriting for sender addresses.", {}},
  {"recipient_canonical_maps", T::table_list, "", kAny, "Address rewriting for recipient addresses.", {}},
  {"propagate_unmatched_extensions", T::list, "canonical, virtual", kAny, "Rewritings that keep an address extension when the table matched without it.", "canonical|virtual|alias|forward|include|generic"},
  {"append_dot_mydomain", T::boolean, "no", kAny, "Append .$mydomain to addresses whose domain has no dot.", {}},
  {"local_header_rewrite_clients", T::list, "permit_inet_interfaces", kAny, "Clients whose header addresses are rewritten.", {}},
  {"transport_maps", T::table_list, "", kAny, "Tables mapping recipients or domains to transport:nexthop.", {}},
  {"parent_domain_matches_subdomains", T::list, "debug_peer_list, fast_flush_domains, mynetworks, permit_mx_backup_networks, qmqpd_authorized_clients, relay_domains, smtpd_access_maps", kAny, "Parameters whose plain domain names (and table keys) also match subdomains; others need .domain.", {}},
  {"default_transport", T::string, "smtp", kAny, "Transport for mail to other domains.", {}},
  {"local_transport", T::string, "local:$myhostname", kAny, "Transport for mydestination.", {}},
  {"virtual_transport", T::string, "virtual", kAny, "Transport for virtual_mailbox_domains.", {}},
  {"relay_transport", T::string, "relay", kAny, "Transport for relay_domains.", {}},
  {"mailbox_transport", T::string, "", kAny, "Transport for local mailboxes instead of local's own delivery.", {}},
  {"fallback_transport", T::string, "", kAny, "Transport for local recipients without an account.", {}},
  {"luser_relay", T::string, "", kAny, "Destination for unknown local recipients.", {}},
  {"empty_address_recipient", T::string, "MAILER-DAEMON", kAny, "Recipient of mail whose recipient is the null address.", {}},
  {"local_recipient_maps", T::table_list, "unix:passwd.byname $alias_maps", kAny, "Valid local recipients; empty accepts any.", {}},

  // Virtual domains.
  {"virtual_alias_maps", T::table_list, "", kAny, "Tables that redirect addresses in any domain.", {}},
  {"virtual_alias_domains", T::list, "$virtual_alias_maps", kAny, "Domains that only have virtual aliases.", {}},
  {"virtual_alias_recursion_limit", T::count, "1000", kPositive, "Deepest nesting of virtual alias expansion.", {}},
  {"virtual_alias_expansion_limit", T::count, "1000", kPositive, "Most addresses one virtual alias expands to.", {}},
  {"virtual_mailbox_domains", T::list, "$virtual_mailbox_maps", kAny, "Domains whose users have virtual mailboxes.", {}},
  {"virtual_mailbox_maps", T::table_list, "", kAny, "Mailbox path of each virtual user, relative to virtual_mailbox_base; a trailing / means Maildir.", {}},
  {"virtual_mailbox_base", T::string, "", kAny, "Directory that virtual mailbox paths start from.", {}},
  {"virtual_uid_maps", T::table_list, "", kAny, "User ID of each virtual mailbox (static:ID for one).", {}},
  {"virtual_gid_maps", T::table_list, "", kAny, "Group ID of each virtual mailbox.", {}},
  {"virtual_minimum_uid", T::count, "100", kPositive, "Smallest user ID accepted from virtual_uid_maps.", {}},
  {"virtual_mailbox_limit", T::size, "51200000", kNonNeg, "Largest virtual mbox file in bytes; 0 means no limit.", {}},
  {"virtual_mailbox_lock", T::list, "fcntl, dotlock", kAny, "Locks taken on virtual mbox files.", "fcntl|flock|dotlock"},

  // Local delivery.
  {"home_mailbox", T::string, "", kAny, "Mailbox relative to the home directory: Maildir/ or Mailbox; empty uses mail_spool_directory.", {}},
  {"mail_spool_directory", T::string, "/var/mail", kAny, "Directory of mbox files named after users; a trailing / means Maildir.", {}},
  {"mailbox_command", T::string, "", kAny, "Command that delivers to local mailboxes instead of local itself.", {}, kRaw},
  {"mailbox_size_limit", T::size, "51200000", kNonNeg, "Largest local mailbox file in bytes; 0 means no limit.", {}},
  {"mailbox_delivery_lock", T::list, "fcntl, dotlock", kAny, "Locks taken on mbox files.", "fcntl|flock|dotlock"},
  {"forward_path", T::list, "$home/.forward${recipient_delimiter}${extension}, $home/.forward", kAny, ".forward files searched; expanded by local with $home, $user, $extension.", {}, kRaw},
  {"allow_mail_to_commands", T::list, "alias, forward", kAny, "Where |command destinations are allowed.", "alias|forward|include"},
  {"allow_mail_to_files", T::list, "alias, forward", kAny, "Where /file destinations are allowed.", "alias|forward|include"},
  {"local_command_shell", T::string, "", kAny, "Shell for |command deliveries; empty runs simple commands directly and others with /bin/sh.", {}},
  {"prepend_delivered_header", T::list, "command, file, forward", kAny, "Deliveries that get a Delivered-To: header.", "command|file|forward"},
  {"owner_request_special", T::boolean, "yes", kAny, "Give owner-list and list-request addresses special treatment.", {}},
  {"forward_expansion_filter", T::string, "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", kAny, "Characters allowed in values substituted into forward_path; others become underscores.", {}},
  {"command_expansion_filter", T::string, "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", kAny, "Characters allowed in the environment of |command deliveries; others become underscores.", {}},
  {"deliver_lock_attempts", T::count, "20", kPositive, "Tries to lock a mailbox file before the delivery is deferred.", {}},
  {"deliver_lock_delay", T::time, "1s", kPositive, "Pause between tries to lock a mailbox file.", {}},
  {"stale_lock_time", T::time, "500s", kPositive, "Age after which a mailbox dot-lock file is removed as stale.", {}},
  {"unknown_local_recipient_reject_code", T::count, "550", kReplyCode, "SMTP reply code for an unknown local recipient.", {}},

  // Queue manager and scheduling.
  {"qmgr_message_active_limit", T::count, "20000", kPositive, "Most messages in the active queue.", {}},
  {"qmgr_message_recipient_limit", T::count, "20000", kPositive, "Most recipients held in memory by qmgr.", {}},
  {"qmgr_message_recipient_minimum", T::count, "10", kPositive, "Fewest recipients of one message held in memory.", {}},
  {"qmgr_ipc_timeout", T::time, "60s", kPositive, "Longest silence of a client of qmgr (wake-up, flush); agents are waited for.", {}},
  {"qmgr_daemon_timeout", T::time, "1000s", kPositive, "Longest time qmgr spends on one task.", {}},
  {"minimal_backoff_time", T::time, "300s", kPositive, "Shortest wait before a deferred message is tried again.", {}},
  {"maximal_backoff_time", T::time, "4000s", kPositive, "Longest wait before a deferred message is tried again.", {}},
  {"queue_run_delay", T::time, "300s", kPositive, "Interval between scans of the deferred queue.", {}},
  {"maximal_queue_lifetime", T::time, "5d", kNonNeg, "Time after which a deferred message is returned as undeliverable.", {}},
  {"bounce_queue_lifetime", T::time, "5d", kNonNeg, "Queue lifetime of bounce messages.", {}},
  {"delay_warning_time", T::time, "0h", kNonNeg, "Delay after which the sender is warned; 0 sends no warning.", {}},
  {"transport_retry_time", T::time, "60s", kPositive, "Wait before a failed delivery agent is used again.", {}},
  {"default_destination_concurrency_limit", T::count, "20", kNonNeg, "Most parallel deliveries to one destination; 0 means no limit.", {}},
  {"default_destination_recipient_limit", T::count, "50", kNonNeg, "Most recipients per delivery; 0 means no limit.", {}},
  {"default_destination_rate_delay", T::time, "0s", kNonNeg, "Pause between deliveries to one destination.", {}},
  {"default_destination_concurrency_failed_cohort_limit", T::count, "1", kPositive, "Failed cohorts after which a destination is deemed dead.", {}},
  {"default_extra_recipient_limit", T::count, "1000", kPositive, "Recipients beyond the recipient limit that a transport may hold.", {}},
  {"default_recipient_limit", T::count, "20000", kPositive, "Most recipients in memory per transport.", {}},
  {"default_delivery_slot_cost", T::count, "5", kNonNeg, "Deliveries after which a message may be preempted.", {}},
  {"initial_destination_concurrency", T::count, "5", kPositive, "Parallel deliveries to a destination at first (slow start).", {}},

  // Bounces and notices.
  {"bounce_size_limit", T::size, "50000", kPositive, "Most of the original message returned in a bounce, in bytes.", {}},
  {"bounce_template_file", T::string, "", kAny, "File with the texts of delivery status notifications, in bounce(5) template format; empty: built-in texts.", {}},
  {"notify_classes", T::list, "resource, software", kAny, "Problems reported to the postmaster.", "bounce|2bounce|data|delay|policy|protocol|resource|software"},
  {"bounce_notice_recipient", T::string, "postmaster", kAny, "Recipient of bounce notices.", {}},
  {"2bounce_notice_recipient", T::string, "postmaster", kAny, "Recipient of undeliverable bounces.", {}},
  {"delay_notice_recipient", T::string, "postmaster", kAny, "Recipient of delay notices.", {}},
  {"error_notice_recipient", T::string, "postmaster", kAny, "Recipient of resource and software error notices.", {}},
  {"double_bounce_sender", T::string, "double-bounce", kAny, "Sender of postmaster notices; mail to it is dropped.", {}},

  // smtpd.
  {"smtpd_banner", T::string, "$myhostname ESMTP $mail_name", kAny, "Text after 220 in the SMTP greeting.", {}},
  {"smtpd_timeout", T::time, "300s", kPositive, "Longest time a client may take to send one whole command line, or between two reads of message content; then 421 4.4.2.", {}},
  {"smtpd_data_timeout", T::time, "1800s", kPositive, "Longest time a client may take to send a whole message, from DATA's 354 (or the first BDAT) to its end; then 421 4.4.2 (Posthorn only).", {}},
  {"smtpd_starttls_timeout", T::time, "300s", kPositive, "Longest TLS handshake of smtpd.", {}},
  {"smtpd_commit_threads", T::count, "4", {1, 64}, "Writer threads per smtpd process for the durable queue-file write, so that one fsync does not hold the other sessions (Posthorn only).", {}},
  {"smtpd_recipient_limit", T::count, "1000", kPositive, "Most recipients per message.", {}},
  {"smtpd_recipient_overshoot_limit", T::count, "1000", kPositive, "Recipients beyond smtpd_recipient_limit that count as errors.", {}},
  {"smtpd_error_sleep_time", T::time, "1s", kNonNeg, "Delay of every reply once a client has made smtpd_soft_error_limit errors (a timer: other sessions go on).", {}},
  {"smtpd_soft_error_limit", T::count, "10", kNonNeg, "Errors after which replies are delayed.", {}},
  {"smtpd_hard_error_limit", T::count, "20", kPositive, "Errors after which the session is closed with 421.", {}},
  {"smtpd_junk_command_limit", T::count, "100", kPositive, "NOOP, VRFY, ETRN and RSET commands allowed before they count as errors.", {}},
  {"smtpd_helo_required", T::boolean, "no", kAny, "Require HELO or EHLO before MAIL.", {}},
  {"smtpd_delay_reject", T::boolean, "yes", kAny, "Apply client, HELO and sender restrictions at RCPT time.", {}},
  {"smtpd_client_restrictions", T::list, "", kAny, "Checks of the client at connect time.", {}},
  {"smtpd_helo_restrictions", T::list, "", kAny, "Checks of the HELO/EHLO name.", {}},
  {"smtpd_sender_restrictions", T::list, "", kAny, "Checks of MAIL FROM.", {}},
  {"smtpd_relay_restrictions", T::list, "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination", kAny, "Relay control at RCPT time, before smtpd_recipient_restrictions.", {}},
  {"smtpd_recipient_restrictions", T::list, "", kAny, "Checks of RCPT TO after smtpd_relay_restrictions.", {}},
  {"smtpd_data_restrictions", T::list, "", kAny, "Checks at the DATA command.", {}},
  {"smtpd_end_of_data_restrictions", T::list, "", kAny, "Checks after the end of the message.", {}},
  {"smtpd_etrn_restrictions", T::list, "", kAny, "Checks of the ETRN command.", {}},
  {"smtpd_reject_unlisted_recipient", T::boolean, "yes", kAny, "Reject unknown recipients in local, virtual and relay domains.", {}},
  {"smtpd_reject_unlisted_sender", T::boolean, "no", kAny, "Reject senders in our domains that would be unknown as recipients.", {}},
  {"smtpd_sender_login_maps", T::table_list, "", kAny, "Owners of sender addresses, for reject_sender_login_mismatch.", {}},
  {"smtpd_discard_ehlo_keywords", T::list, "", kAny, "EHLO keywords not announced.", {}},
  {"smtpd_forbid_bare_newline", T::string, "normalize", kAny, "Bare LF in commands or data: accept (no), treat as CRLF (normalize), or reject.", "no|normalize|reject"},
  {"smtpd_forbid_bare_newline_exclusions", T::list, "$mynetworks", kAny, "Clients exempt from smtpd_forbid_bare_newline.", {}},
  {"smtpd_forbid_bare_newline_reject_code", T::count, "550", kReject5, "Reply code for a rejected bare newline.", {}},
  {"smtpd_forbid_unauth_pipelining", T::boolean, "yes", kAny, "Disconnect clients that pipeline before EHLO allows it.", {}},
  {"smtpd_client_connection_count_limit", T::count, "50", kNonNeg, "Most simultaneous sessions from one client, counted per smtpd process; 0 means no limit.", {}},
  {"smtpd_client_connection_rate_limit", T::count, "0", kNonNeg, "Most connections per client per anvil_rate_time_unit, counted per smtpd process; 0 means no limit.", {}},
  {"smtpd_client_message_rate_limit", T::count, "0", kNonNeg, "Most messages per client per minute; 0 means no limit.", {}},
  {"anvil_rate_time_unit", T::time, "60s", kPositive, "Time unit of smtpd_client_connection_rate_limit.", {}},
  {"smtpd_client_event_limit_exceptions", T::list, "$mynetworks", kAny, "Clients exempt from the per-client limits.", {}},
  {"smtpd_peername_lookup", T::boolean, "yes", kAny, "Look up the client's name in DNS.", {}},
  {"smtpd_client_port_logging", T::boolean, "no", kAny, "Log the client's port number.", {}},
  {"disable_vrfy_command", T::boolean, "no", kAny, "Refuse the VRFY command.", {}},
  {"unknown_address_reject_code", T::count, "450", kReplyCode, "Reply code for an unresolvable sender or recipient domain.", {}},
  {"unknown_virtual_mailbox_reject_code", T::count, "550", kReplyCode, "Reply code for an unknown virtual mailbox recipient.", {}},
  {"unknown_relay_recipient_reject_code", T::count, "550", kReplyCode, "Reply code for a recipient not in relay_recipient_maps.", {}},
  {"relay_domains_reject_code", T::count, "554", kReplyCode, "Reply code for a refused relay attempt.", {}},
  {"access_map_reject_code", T::count, "554", kReplyCode, "Reply code for a REJECT from an access table.", {}},
  {"maps_rbl_reject_code", T::count, "554", kReplyCode, "Reply code for a client listed by a DNS blocklist.", {}},
  {"reject_code", T::count, "554", kReplyCode, "Reply code of the reject restriction.", {}},
  {"defer_code", T::count, "450", {400, 499}, "Reply code of the defer restriction.", {}},
  {"access_map_defer_code", T::count, "450", {400, 499}, "Reply code for a DEFER from an access table.", {}},
  {"non_fqdn_reject_code", T::count, "504", kReplyCode, "Reply code for a sender, recipient or HELO name that is not fully qualified.", {}},
  {"invalid_hostname_reject_code", T::count, "501", kReplyCode, "Reply code for a HELO name with bad syntax.", {}},
  {"unknown_client_reject_code", T::count, "450", kReplyCode, "Reply code for a client without a (confirmed) host name.", {}},
  {"unknown_virtual_alias_reject_code", T::count, "550", kReplyCode, "Reply code for an unknown recipient in a virtual alias domain.", {}},
  {"nullmx_reject_code", T::count, "556", kReplyCode, "Reply code for a sender or recipient domain with a null MX (RFC 7505).", {}},
  {"smtpd_null_access_lookup_key", T::string, "<>", kAny, "Key looked up in check_sender_access tables for the null sender.", {}},

  // smtpd TLS.
  {"smtpd_tls_security_level", T::string, "", kAny, "TLS in smtpd: none, may (STARTTLS offered), encrypt (required); empty offers it when a certificate is set.", "|none|may|encrypt"},
  {"smtpd_tls_cert_file", T::string, "", kAny, "PEM file with the RSA server certificate and its chain.", {}},
  {"smtpd_tls_key_file", T::string, "$smtpd_tls_cert_file", kAny, "PEM file with the RSA private key.", {}},
  {"smtpd_tls_eccert_file", T::string, "", kAny, "PEM file with the ECDSA server certificate and its chain.", {}},
  {"smtpd_tls_eckey_file", T::string, "$smtpd_tls_eccert_file", kAny, "PEM file with the ECDSA private key.", {}},
  {"smtpd_tls_chain_files", T::list, "", kAny, "PEM files each with a key, its certificate and chain (replaces the files above).", {}},
  {"smtpd_tls_CAfile", T::string, "", kAny, "CA certificates for client certificate checks.", {}},
  {"smtpd_tls_protocols", T::list, ">=TLSv1.2", kAny, "TLS protocol versions smtpd accepts.", {}},
  {"smtpd_tls_mandatory_protocols", T::list, ">=TLSv1.2", kAny, "TLS protocol versions when TLS is required.", {}},
  {"smtpd_tls_ciphers", T::string, "medium", kAny, "Cipher grade for opportunistic TLS.", "high|medium|null"},
  {"smtpd_tls_mandatory_ciphers", T::string, "medium", kAny, "Cipher grade when TLS is required.", "high|medium|null"},
  {"smtpd_tls_exclude_ciphers", T::list, "", kAny, "OpenSSL cipher names never used.", {}},
  {"smtpd_tls_auth_only", T::boolean, "yes", kAny, "Offer AUTH only after STARTTLS; Posthorn's default is yes (Postfix: no).", {}},
  {"smtpd_tls_wrappermode", T::boolean, "no", kAny, "TLS from the first byte (port 465, RFC 8314).", {}},
  {"smtpd_tls_ask_ccert", T::boolean, "no", kAny, "Ask clients for a certificate.", {}},
  {"smtpd_tls_loglevel", T::count, "0", {0, 4}, "Detail of smtpd's TLS logging.", {}},
  {"smtpd_tls_received_header", T::boolean, "no", kAny, "Record TLS details in the Received: header.", {}},
  {"smtpd_tls_session_cache_timeout", T::time, "3600s", {0, 8640000}, "Lifetime of TLS session tickets.", {}},

  // smtpd SASL.
  {"smtpd_sasl_auth_enable", T::boolean, "no", kAny, "Offer SMTP AUTH (RFC 4954), checked by the auth service.", {}},
  {"smtpd_sasl_path", T::string, "auth", kAny, "Service name of the auth service in master.cf.", {}},
  {"smtpd_sasl_security_options", T::list, "noanonymous", kAny, "Mechanism restrictions without TLS.", "noanonymous|noplaintext|noactive|nodictionary|mutual_auth|forward_secrecy"},
  {"smtpd_sasl_tls_security_options", T::list, "$smtpd_sasl_security_options", kAny, "Mechanism restrictions under TLS.", "noanonymous|noplaintext|noactive|nodictionary|mutual_auth|forward_secrecy"},
  {"smtpd_sasl_authenticated_header", T::boolean, "no", kAny, "Name the login in the Received: header.", {}},
  {"smtpd_sasl_local_domain", T::string, "", kAny, "Realm appended to login names without one.", {}},
  {"smtpd_sasl_exceptions_networks", T::list, "", kAny, "Clients to which AUTH is not offered.", {}},
  {"smtpd_sasl_check_timeout", T::time, "30s", kPositive, "Longest wait of smtpd for the auth service's answer to one password check.", {}},

  // smtp client.
  {"smtp_tcp_port", T::string, "smtp", kAny, "Default port of outbound SMTP: a number or a service name.", {}},
  {"smtp_helo_name", T::string, "$myhostname", kAny, "Name sent in HELO and EHLO.", {}},
  {"smtp_bind_address", T::string, "", kAny, "Local IPv4 address for outbound connections.", {}},
  {"smtp_bind_address6", T::string, "", kAny, "Local IPv6 address for outbound connections.", {}},
  {"smtp_address_preference", T::string, "any", kAny, "Address family tried first when a host has both.", "any|ipv4|ipv6"},
  {"smtp_host_lookup", T::list, "dns", kAny, "How smtp finds host addresses: dns, native (getaddrinfo), or both (DNS first).", "dns|native"},
  {"smtp_dns_support_level", T::string, "", kAny, "DNS use of smtp: disabled, enabled, dnssec; empty means enabled.", "|disabled|enabled|dnssec"},
  {"smtp_mx_address_limit", T::count, "5", kNonNeg, "Most MX addresses tried per delivery; 0 means no limit.", {}},
  {"smtp_mx_session_limit", T::count, "2", kNonNeg, "Most SMTP sessions per delivery; 0 means no limit.", {}},
  {"smtp_skip_5xx_greeting", T::boolean, "yes", kAny, "Try the next MX after a 5xx greeting.", {}},
  {"smtp_always_send_ehlo", T::boolean, "yes", kAny, "Send EHLO even without ESMTP in the greeting.", {}},
  {"smtp_discard_ehlo_keywords", T::list, "", kAny, "EHLO keywords smtp ignores in a server's reply, such as chunking or pipelining.", {}},
  {"smtp_defer_if_no_mx_address_found", T::boolean, "no", kAny, "Defer, rather than bounce, when no MX host has an address.", {}},
  {"smtp_fallback_relay", T::list, "", kAny, "Hosts tried when the MX hosts fail.", {}},
  {"smtp_line_length_limit", T::count, "998", kNonNeg, "Longest line sent; longer ones are folded (RFC 5322 2.1.1).", {}},
  {"smtp_connect_timeout", T::time, "30s", kPositive, "Longest TCP connect.", {}},
  {"smtp_helo_timeout", T::time, "300s", kPositive, "Longest wait for the greeting and the HELO/EHLO reply.", {}},
  {"smtp_mail_timeout", T::time, "300s", kPositive, "Longest wait for the MAIL FROM reply.", {}},
  {"smtp_rcpt_timeout", T::time, "300s", kPositive, "Longest wait for a RCPT TO reply.", {}},
  {"smtp_data_init_timeout", T::time, "120s", kPositive, "Longest wait for the DATA reply.", {}},
  {"smtp_data_xfer_timeout", T::time, "180s", kPositive, "Longest stall while sending the message.", {}},
  {"smtp_data_done_timeout", T::time, "600s", kPositive, "Longest wait for the reply to the end of data.", {}},
  {"smtp_quit_timeout", T::time, "300s", kPositive, "Longest wait for the QUIT reply.", {}},
  {"smtp_starttls_timeout", T::time, "300s", kPositive, "Longest outbound TLS handshake.", {}},
  {"smtp_connection_cache_destinations", T::list, "", kAny, "Destinations whose connections are always kept for reuse.", {}},
  {"smtp_connection_cache_on_demand", T::boolean, "yes", kAny, "Keep connections to destinations with a backlog.", {}},
  {"smtp_connection_cache_time_limit", T::time, "2s", kPositive, "Idle time of a kept connection.", {}},
  {"smtp_connection_reuse_count_limit", T::count, "0", kNonNeg, "Most uses of one connection; 0 means no limit.", {}},
  {"smtp_connection_reuse_time_limit", T::time, "300s", kPositive, "Longest life of a reused connection.", {}},
  {"smtp_tls_security_level", T::string, "", kAny, "Outbound TLS: none, may, encrypt, verify, secure; empty means none.", "|none|may|encrypt|verify|secure"},
  {"smtp_tls_CAfile", T::string, "", kAny, "CA certificates for server certificate checks.", {}},
  {"smtp_tls_CApath", T::string, "", kAny, "Directory of CA certificates for server certificate checks.", {}},
  {"smtp_tls_cert_file", T::string, "", kAny, "PEM client certificate.", {}},
  {"smtp_tls_key_file", T::string, "$smtp_tls_cert_file", kAny, "PEM client private key.", {}},
  {"smtp_tls_protocols", T::list, ">=TLSv1.2", kAny, "TLS protocol versions smtp uses.", {}},
  {"smtp_tls_mandatory_protocols", T::list, ">=TLSv1.2", kAny, "TLS protocol versions when TLS is required.", {}},
  {"smtp_tls_ciphers", T::string, "medium", kAny, "Cipher grade for opportunistic TLS.", "high|medium|null"},
  {"smtp_tls_mandatory_ciphers", T::string, "medium", kAny, "Cipher grade when TLS is required.", "high|medium|null"},
  {"smtp_tls_policy_maps", T::table_list, "", kAny, "TLS security level per destination.", {}},
  {"smtp_tls_verify_cert_match", T::list, "hostname", kAny, "Names matched at the verify level.", {}},
  {"smtp_tls_secure_cert_match", T::list, "nexthop, dot-nexthop", kAny, "Names matched at the secure level.", {}},
  {"smtp_tls_loglevel", T::count, "0", {0, 4}, "Detail of smtp's TLS logging.", {}},
  {"smtp_tls_note_starttls_offer", T::boolean, "no", kAny, "Log servers that offer STARTTLS when TLS is off.", {}},
  {"smtp_tls_wrappermode", T::boolean, "no", kAny, "TLS from the first byte (port 465).", {}},
  {"smtp_tls_session_cache_timeout", T::time, "3600s", {0, 8640000}, "Lifetime of cached TLS sessions.", {}},
  {"smtp_sasl_auth_enable", T::boolean, "no", kAny, "Authenticate to the next hop with SASL.", {}},
  {"smtp_sasl_password_maps", T::table_list, "", kAny, "user:password per next hop or sender.", {}},
  {"smtp_sasl_security_options", T::list, "noplaintext, noanonymous", kAny, "Mechanism restrictions without TLS.", "noanonymous|noplaintext|noactive|nodictionary|mutual_auth"},
  {"smtp_sasl_tls_security_options", T::list, "$smtp_sasl_security_options", kAny, "Mechanism restrictions under TLS.", "noanonymous|noplaintext|noactive|nodictionary|mutual_auth"},
  {"smtp_sasl_mechanism_filter", T::list, "", kAny, "Mechanisms smtp may use; empty allows all offered.", {}},

  // DNS.
  {"dns_nameservers", T::list, "", kAny, "Resolvers (ip or [ip]:port) used instead of /etc/resolv.conf.", {}},
  {"dns_timeout", T::time, "5s", kPositive, "Wait for one DNS answer before a retry.", {}},
  {"dns_retry_count", T::count, "2", kNonNeg, "Retries of a DNS query.", {}},

  // Content checks.
  {"header_checks", T::table_list, "", kAny, "Pattern tables applied to each header.", {}},
  {"body_checks", T::table_list, "", kAny, "Pattern tables applied to each body line.", {}},

  // The auth service.
  {"auth_password_maps", T::table_list, "", kAny, "login -> crypt(3) hash, optionally with a {SCHEME} prefix.", {}},
  {"auth_allow_plain_scheme", T::boolean, "no", kAny, "Accept {PLAIN} password entries.", {}},
  {"auth_failure_delay", T::time, "2s", {0, 60}, "Pause before answering a failed password check.", {}},
  {"auth_failure_limit", T::count, "10", kPositive, "Failed checks per client and hour before all are refused.", {}},

  // Access agents (Posthorn's own).
  {"pop3_plaintext_auth", T::boolean, "no", kAny, "Allow USER/PASS and AUTH PLAIN before STLS.", {}},
  {"pop3_banner", T::string, "$mail_name ready", kAny, "Text after +OK in the POP3 greeting.", {}},
  {"pop3_timeout", T::time, "600s", {600, {}}, "Idle time before a POP3 session is closed (RFC 1939: at least 10 minutes).", {}},
  {"pop3_auth_failure_limit", T::count, "3", kPositive, "Failed logins before a POP3 session is closed.", {}},
  {"pop3_tls_cert_file", T::string, "$smtpd_tls_cert_file", kAny, "PEM certificate for STLS and port 995.", {}},
  {"pop3_tls_key_file", T::string, "$smtpd_tls_key_file", kAny, "PEM private key for STLS and port 995.", {}},
  {"pop3_tls_wrappermode", T::boolean, "no", kAny, "TLS from the first byte (port 995).", {}},
  {"pop3_sasl_path", T::string, "auth", kAny, "Service name of the auth service in master.cf, for pop3d's password checks.", {}},
  {"pop3_sasl_check_timeout", T::time, "30s", kPositive, "Longest wait of pop3d for the auth service's answer to one password check.", {}},
  {"imap_plaintext_auth", T::boolean, "no", kAny, "Allow LOGIN and AUTHENTICATE PLAIN before STARTTLS.", {}},
  {"imap_banner", T::string, "$mail_name ready", kAny, "Text of the IMAP greeting.", {}},
  {"imap_timeout", T::time, "30m", {1800, {}}, "Idle time of an authenticated session (RFC 9051: at least 30 minutes).", {}},
  {"imap_login_timeout", T::time, "60s", kPositive, "Time allowed before a successful login.", {}},
  {"imap_auth_failure_limit", T::count, "3", kPositive, "Failed logins before an IMAP session is closed.", {}},
  {"imap_max_literal", T::size, "52428800", {1024, {}}, "Largest literal, and APPENDLIMIT, in bytes.", {}},
  {"imap_max_line_length", T::size, "65536", {1024, {}}, "Longest command line in bytes, literals excluded.", {}},
  {"imap_max_nesting", T::count, "32", kPositive, "Deepest parenthesis nesting in a command.", {}},
  {"imap_tls_cert_file", T::string, "$smtpd_tls_cert_file", kAny, "PEM certificate for STARTTLS and port 993.", {}},
  {"imap_tls_key_file", T::string, "$smtpd_tls_key_file", kAny, "PEM private key for STARTTLS and port 993.", {}},
  {"imap_tls_wrappermode", T::boolean, "no", kAny, "TLS from the first byte (port 993).", {}},
  {"imap_special_use_folders", T::list, "Drafts=\\Drafts, Sent=\\Sent, Trash=\\Trash, Junk=\\Junk", kAny, "Folders shown with RFC 6154 attributes (name=\\Attribute), and created for new users.", {}},
  {"imap_sasl_path", T::string, "auth", kAny, "Service name of the auth service in master.cf, for imapd.", {}},
  {"imap_sasl_check_timeout", T::time, "30s", kPositive, "Longest wait of imapd for the auth service's answer to one password check.", {}},
};

}  // namespace

std::span<const Param> params() { return kParams; }

const Param* find_param(std::string_view name) {
  // Every lookup of a value resolves names here, so: binary search over an
  // index sorted once.
  static const std::vector<const Param*> index = [] {
    std::vector<const Param*> v;
    for (const Param& p : kParams) v.push_back(&p);
    std::sort(v.begin(), v.end(), [](const Param* a, const Param* b) { return a->name < b->name; });
    return v;
  }();
  auto it = std::lower_bound(index.begin(), index.end(), name,
                             [](const Param* p, std::string_view n) { return p->name < n; });
  return it != index.end() && (*it)->name == name ? *it : nullptr;
}

std::string_view type_name(Type t) {
  switch (t) {
    case Type::string: return "string";
    case Type::boolean: return "boolean";
    case Type::count: return "count";
    case Type::time: return "time";
    case Type::size: return "size";
    case Type::list: return "list";
    case Type::table_list: return "table list";
  }
  return "?";
}

}  // namespace posthorn::config
