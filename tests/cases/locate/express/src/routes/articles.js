const express = require("express");
const { Article, Author, Comment } = require("../models");

const router = express.Router();

router.get("/", async (req, res) => {
  const articles = await Article.findAll({ limit: 50 });
  const out = [];
  for (const article of articles) { // expect: P001 authors
    const author = await article.getAuthor();
    out.push({ title: article.title, author: author.name });
  }
  res.json(out);
});

router.get("/:id/comments", async (req, res) => {
  const article = await Article.findByPk(req.params.id, { include: "comments" });
  res.json(article.comments.map((c) => ({ body: c.body }))); // expect-not: Comments
});

router.get("/:id/related", async function related(req, res) {
  const ids = req.query.ids.split(",");
  const authors = await Promise.all(ids.map((id) => Author.findByPk(id))); // expect: P001 authors related
  res.json(authors);
});

module.exports = router;
