from django.urls import path

from . import views

urlpatterns = [
    path("", views.entry_list, name="entry-list"),
    path("<int:pk>/", views.EntryDetail.as_view(), name="entry-detail"),
    path("authors/", views.author_index, name="author-index"),
    path("page/", views.entry_page, name="entry-page"),
]
