from django.urls import re_path

from .views import tag_cloud

urlpatterns = [
    re_path(r"^tags/(?P<tag_id>[0-9]+)/$", tag_cloud),
]
