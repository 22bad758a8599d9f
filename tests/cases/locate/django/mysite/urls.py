from django.contrib import admin
from django.urls import include, path, re_path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("blog/", include("blog.urls")),
    re_path(r"^api/v1/", include(("blog.api_urls", "api"))),
]
