"""The district's digital-data plan: targets, inventory, progress against them counted in
working days (Vietnam's holidays, Tết included), and the CSV/XLSX report."""
