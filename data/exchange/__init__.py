"""Exchange formats of the registry: CSV and XLSX import and export, DHIS2, FHIR."""
