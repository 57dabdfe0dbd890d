"""Refund mirror tasks: BigCommerce refunds of marketplace lines become Mirakl OR28 refunds, and refunds sellers
raise in Mirakl are paid back through BigCommerce and confirmed with PA02."""
