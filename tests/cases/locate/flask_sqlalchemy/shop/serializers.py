def feed_items(articles):
    items = []
    for article in articles:  # expect: P001 authors feed
        items.append({"title": article.title, "by": article.author.name})
    return items
