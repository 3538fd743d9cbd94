-- A Chinook-shaped dataset for bench/run.sh when ../shared/data/chinook is
-- absent: the tables the scenarios use (genre, media_type, artist, album,
-- track) with Chinook's columns, keys, indexes and row counts (25 genres,
-- 5 media types, 275 artists, 347 albums, 3,503 tracks), filled with
-- generated values of similar lengths. Deterministic: the same rows each run.

CREATE TABLE genre (
    genre_id INT NOT NULL GENERATED ALWAYS AS IDENTITY,
    name VARCHAR(120),
    CONSTRAINT genre_pkey PRIMARY KEY (genre_id)
);
CREATE TABLE media_type (
    media_type_id INT NOT NULL GENERATED ALWAYS AS IDENTITY,
    name VARCHAR(120),
    CONSTRAINT media_type_pkey PRIMARY KEY (media_type_id)
);
CREATE TABLE artist (
    artist_id INT NOT NULL GENERATED ALWAYS AS IDENTITY,
    name VARCHAR(120),
    CONSTRAINT artist_pkey PRIMARY KEY (artist_id)
);
CREATE TABLE album (
    album_id INT NOT NULL GENERATED ALWAYS AS IDENTITY,
    title VARCHAR(160) NOT NULL,
    artist_id INT NOT NULL,
    CONSTRAINT album_pkey PRIMARY KEY (album_id)
);
CREATE TABLE track (
    track_id INT NOT NULL GENERATED ALWAYS AS IDENTITY,
    name VARCHAR(200) NOT NULL,
    album_id INT,
    media_type_id INT NOT NULL,
    genre_id INT,
    composer VARCHAR(220),
    milliseconds INT NOT NULL,
    bytes INT,
    unit_price NUMERIC(10,2) NOT NULL,
    CONSTRAINT track_pkey PRIMARY KEY (track_id)
);

INSERT INTO genre (name) SELECT 'Genre ' || i FROM generate_series(1, 25) i;
INSERT INTO media_type (name) SELECT 'Media type ' || i FROM generate_series(1, 5) i;
INSERT INTO artist (name) SELECT 'Artist number ' || i FROM generate_series(1, 275) i;
INSERT INTO album (title, artist_id)
    SELECT 'Album title ' || i, 1 + (i * 7) % 275 FROM generate_series(1, 347) i;
-- genres skewed as Chinook's are (Rock holds about a third of the tracks)
INSERT INTO track (name, album_id, media_type_id, genre_id, composer, milliseconds, bytes, unit_price)
    SELECT 'Track ' || md5(i::text),
           1 + (i * 13) % 347,
           1 + i % 5,
           CASE WHEN i % 3 = 0 THEN 1 ELSE 1 + (i * 7) % 25 END,
           CASE WHEN i % 4 = 0 THEN NULL ELSE 'Composer ' || (i % 500) || ', Another Name' END,
           60000 + (i * 7919) % 600000,
           1000000 + (i * 104729) % 10000000,
           CASE WHEN i % 10 = 0 THEN 1.99 ELSE 0.99 END
    FROM generate_series(1, 3503) i;

ALTER TABLE album ADD CONSTRAINT album_artist_id_fkey
    FOREIGN KEY (artist_id) REFERENCES artist (artist_id);
ALTER TABLE track ADD CONSTRAINT track_album_id_fkey
    FOREIGN KEY (album_id) REFERENCES album (album_id);
ALTER TABLE track ADD CONSTRAINT track_genre_id_fkey
    FOREIGN KEY (genre_id) REFERENCES genre (genre_id);
ALTER TABLE track ADD CONSTRAINT track_media_type_id_fkey
    FOREIGN KEY (media_type_id) REFERENCES media_type (media_type_id);
CREATE INDEX album_artist_id_idx ON album (artist_id);
CREATE INDEX track_album_id_idx ON track (album_id);
CREATE INDEX track_genre_id_idx ON track (genre_id);
CREATE INDEX track_media_type_id_idx ON track (media_type_id);
