const Koa = require("koa");
const Router = require("@koa/router");
const { Author } = require("./models");

const app = new Koa();
const router = new Router({ prefix: "/v3" });

router.get("/authors/:id", async (ctx) => { // expect: handler koa author
  ctx.body = await Author.findByPk(ctx.params.id);
});

app.use(router.routes());
module.exports = app;
