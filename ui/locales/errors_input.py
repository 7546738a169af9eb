"""Indonesian for pydantic's validation problems (core/messages/input.py)."""

MESSAGES = {
    "input.string_too_long": "maksimal {max_length} karakter",
    "input.string_too_short": "minimal {min_length} karakter",
    "input.greater_than_equal": "minimal {ge}",
    "input.less_than_equal": "maksimal {le}",
    "input.greater_than": "harus lebih dari {gt}",
    "input.less_than": "harus kurang dari {lt}",
    "input.int_parsing": "harus bilangan bulat",
    "input.int_type": "harus bilangan bulat",
    "input.int_from_float": "harus bilangan bulat",
    "input.float_parsing": "harus berupa angka",
    "input.float_type": "harus berupa angka",
    "input.string_type": "harus berupa teks",
    "input.literal_error": "pilih salah satu: {expected}",
    "input.enum": "pilih salah satu: {expected}",
    "input.missing": "wajib diisi",
    "input.too_long": "maksimal {max_length} item",
    "input.too_short": "minimal {min_length} item",
}
