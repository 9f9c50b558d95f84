-- The second release counts stock. A new column that may be NULL: no rewrite, no long lock.
ALTER TABLE products ADD COLUMN stock INTEGER;
