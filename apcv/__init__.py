"""ApCV, the application carte Vitale: the ApCV_AUTH / ApCV_SIGN SOAP services, the patient's phone
(QR code and NFC), the link with INSi. See apcv/service.py and docs/services/apcv.md."""
