"""Classification of Vietnamese administrative documents (Decree 30/2020/NĐ-CP): type, number, date, issuer, subject, signer."""
