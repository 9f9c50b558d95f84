-- The first release: a catalogue of products.
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    price_cents INTEGER NOT NULL
);
INSERT INTO products (id, name, price_cents) VALUES (1, 'tea', 450), (2, 'coffee', 380);
