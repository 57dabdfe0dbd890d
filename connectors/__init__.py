"""Connectors: the only code that talks to the outside (BigCommerce, Mirakl, the ERP sink, the state database)."""
