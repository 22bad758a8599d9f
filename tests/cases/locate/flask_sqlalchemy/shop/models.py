from sqlalchemy.orm import relationship

from . import db


class Author(db.Model):
    __tablename__ = "authors"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80))


class Article(db.Model):
    __tablename__ = "articles"
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200))
    status = db.Column(db.String(20))
    author_id = db.Column(db.ForeignKey("authors.id"))
    author = relationship("Author", backref="articles")
    tags = relationship("Tag", secondary="article_tags", lazy="selectin")


class Comment(db.Model):
    __tablename__ = "comments"
    id = db.Column(db.Integer, primary_key=True)
    article_id = db.Column(db.ForeignKey("articles.id"))
    body = db.Column(db.Text)
    user_id = db.Column(db.ForeignKey("users.id"))
    user = relationship("User")


class User(db.Model):
    __tablename__ = "users"
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(200))


class Tag(db.Model):
    __tablename__ = "tags"
    id = db.Column(db.Integer, primary_key=True)
    label = db.Column(db.String(40))
