-- 0009: "Mis solicitudes" links. token is the SHA-256 of the link's token;
-- a link lists the tickets of email until expires_at.
CREATE TABLE magic_links (
	id         {{ID}},
	token      TEXT NOT NULL UNIQUE,
	email      TEXT NOT NULL,
	created_at {{TS}} NOT NULL,
	expires_at {{TS}} NOT NULL
);
CREATE INDEX magic_links_email ON magic_links (email, created_at);
