-- Where each account has signed in from (an IPv4 address or an IPv6 /64): these addresses are not
-- held by the account's shared budget of failed logins, also after a restart, so an attacker
-- guessing from elsewhere cannot lock the rightful user out (see src/auth/login_limit.rs).
CREATE TABLE login_addresses (
    account    TEXT NOT NULL,
    address    TEXT NOT NULL,
    last_seen  BIGINT NOT NULL,
    PRIMARY KEY (account, address)
);
CREATE INDEX login_addresses_seen ON login_addresses (last_seen);
