-- Whether a product is goods or services: the VAT decision at checkout places the two
-- differently when the buyer is abroad (reverse charge and outside-scope services, exports and
-- intra-community supplies of goods). Products that existed before are goods, which is what
-- the decision assumed of every product until now.
ALTER TABLE shopkeep_products
    ADD COLUMN supply_kind TEXT NOT NULL DEFAULT 'goods'
    CHECK (supply_kind IN ('goods', 'services'));
