"""The sign-in and sign-out pages (ui/login_page.py)."""

EN = {
    "login.app_name": "Avatar & Pose Generator",
    "login.tagline": "On-model product photos for your shop, without a photoshoot",
    "login.title": "Sign in",
    "login.username": "Username",
    "login.password": "Password",
    "login.submit": "Sign in",
    "login.sign_out_question": "Sign out?",
    "login.sign_out": "Sign out",
    "login.stay": "Stay signed in",
}

ID = {
    "login.app_name": "Avatar & Pose Generator",
    "login.tagline": "Foto produk dengan model untuk toko Anda, tanpa sesi foto",
    "login.title": "Masuk",
    "login.username": "Nama pengguna",
    "login.password": "Kata sandi",
    "login.submit": "Masuk",
    "login.sign_out_question": "Keluar?",
    "login.sign_out": "Keluar",
    "login.stay": "Tetap masuk",
}
