"""CloudSMS domain package: shipped as a Lambda layer, imported by every function."""
