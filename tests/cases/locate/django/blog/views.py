from django.http import JsonResponse
from django.shortcuts import render
from django.views import View

from .models import Author, Entry


def entry_list(request):
    entries = Entry.objects.order_by("-id")[:50]
    data = []
    for entry in entries:  # expect: P001 blog_author
        data.append({"title": entry.title, "author": entry.author.name})
    return JsonResponse(data, safe=False)


class EntryDetail(View):
    def get(self, request, pk):  # expect: handler entry detail
        entry = Entry.objects.select_related("author").get(pk=pk)
        return JsonResponse({"title": entry.title, "author": entry.author.name})


def author_index(request):
    authors = Author.objects.prefetch_related("entries")
    return JsonResponse(
        {a.name: [e.title for e in a.entries.all()] for a in authors}  # expect-not: blog_entry
    )


def tag_cloud(request, tag_id):
    entries = Entry.objects.filter(tags__id=tag_id)
    labels = [[t.label for t in e.tags.all()] for e in entries]  # expect: P001 tags
    return JsonResponse(labels, safe=False)


def entry_page(request):
    entries = Entry.objects.order_by("-id")[:50]
    return render(request, "blog/entry_page.html", {"entries": entries})
