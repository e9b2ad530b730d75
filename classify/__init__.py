"""Classification of Vietnamese administrative documents (Decree 30/2020/NĐ-CP).

Reads the type, number, date, issuer, subject and signer off a digitized document.
"""
