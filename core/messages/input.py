"""pydantic's own validation problems, by its error type ("input.<type>"), for the pages that show them
(ui.common.pydantic_message). REST answers keep pydantic's English text; these are the same words."""

EN = {
    "input.string_too_long": "String should have at most {max_length} characters",
    "input.string_too_short": "String should have at least {min_length} characters",
    "input.greater_than_equal": "Input should be greater than or equal to {ge}",
    "input.less_than_equal": "Input should be less than or equal to {le}",
    "input.greater_than": "Input should be greater than {gt}",
    "input.less_than": "Input should be less than {lt}",
    "input.int_parsing": "Input should be a valid integer",
    "input.int_type": "Input should be a valid integer",
    "input.int_from_float": "Input should be a valid integer",
    "input.float_parsing": "Input should be a valid number",
    "input.float_type": "Input should be a valid number",
    "input.string_type": "Input should be a valid string",
    "input.literal_error": "Input should be {expected}",
    "input.enum": "Input should be {expected}",
    "input.missing": "Field required",
    "input.too_long": "List should have at most {max_length} items",
    "input.too_short": "List should have at least {min_length} items",
}
