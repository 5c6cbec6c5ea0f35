"""Runs CloudSMS on one machine: emulator wiring, local API Gateway, simulator."""
