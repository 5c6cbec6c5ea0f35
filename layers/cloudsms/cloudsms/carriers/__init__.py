"""Carrier adapters: one per gateway type, all behind `carriers.base.Gateway`."""
