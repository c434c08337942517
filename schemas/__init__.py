"""Pandera contracts: one schema per sheet of campaign.xlsx and per stage boundary.

Each column carries its header as the schema's `title` (the exact text a person
sees in the workbook) and a `description`; readers map headers to column names
through these schemas, so the contract lives in one place.
"""
