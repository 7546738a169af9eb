"""Owned records in general (core/records.py): not found (or someone else's), paging, required fields."""

EN = {
    "records.not_found": "{record} {id} not found.",
    "records.page_out_of_range": "limit must be 1-{most} and offset 0 or more.",
    "records.field_empty": "{name} cannot be empty.",
}
