from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=80)


class Tag(models.Model):
    label = models.CharField(max_length=40)

    class Meta:
        db_table = "tags"


class Entry(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="entries")
    tags = models.ManyToManyField(Tag)
