from flask import Blueprint, jsonify, render_template
from sqlalchemy.orm import selectinload

from .models import Article, Comment, User
from .serializers import feed_items

blog = Blueprint("blog", __name__)


@blog.route("/articles")
def list_articles():
    articles = Article.query.order_by(Article.id.desc()).limit(50).all()
    out = []
    for article in articles:  # expect: P001 authors
        out.append({"title": article.title, "author": article.author.name})
    return jsonify(out)


@blog.get("/articles/<int:article_id>/comments")
def article_comments(article_id):
    comments = (
        Comment.query.options(selectinload(Comment.user)).filter_by(article_id=article_id).all()
    )
    # The users are loaded with the comments: this loop runs no query per item.
    return jsonify([{"body": c.body, "by": c.user.email} for c in comments])  # expect-not: users


@blog.get("/articles/<int:article_id>/tags")
def article_tags(article_id):
    article = Article.query.get_or_404(article_id)
    # tags is lazy="selectin" on the model: loaded with the article, no N+1.
    return jsonify([t.label for t in article.tags])  # expect-not: tags


@blog.get("/feed")
def feed():
    articles = Article.query.limit(20).all()
    return jsonify(feed_items(articles))


@blog.get("/commenters/<int:article_id>")
def commenters(article_id):
    ids = [c.user_id for c in Comment.query.filter_by(article_id=article_id)]
    users = []
    for user_id in ids:  # expect: P001 users
        users.append(User.query.get(user_id).email)
    return jsonify(users)


@blog.get("/articles/page")
def articles_page():
    articles = Article.query.order_by(Article.id.desc()).limit(50).all()
    return render_template("articles/list.html", articles=articles)


@blog.get("/articles/page-eager")
def articles_page_eager():
    articles = Article.query.options(selectinload(Article.author)).limit(50).all()
    return render_template("articles/list_eager.html", articles=articles)
