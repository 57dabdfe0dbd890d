"""Shipment sync tasks: the carrier table, Mirakl shipments mirrored into BigCommerce, and BigCommerce shipments
of marketplace lines sent to Mirakl (OR23 + OR24)."""
