-- Every resource that predates the uid column gets a random one (UUID v4 text, as the store generates), so a
-- re-created resource is told from its predecessor (ETag, sealed session ids). Rows made after 0003 have one.
UPDATE `resources` SET `uid` = lower(
	hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
	substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))
) WHERE `uid` = '';
