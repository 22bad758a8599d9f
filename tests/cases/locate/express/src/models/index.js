const { Sequelize, DataTypes, Model } = require("sequelize");

const sequelize = new Sequelize(process.env.DATABASE_URL);

const Author = sequelize.define("Author", { name: DataTypes.STRING }, { tableName: "authors" });

class Article extends Model {}
Article.init({ title: DataTypes.STRING, authorId: DataTypes.INTEGER }, { sequelize, modelName: "Article" });

const Comment = sequelize.define("Comment", { body: DataTypes.TEXT });

Article.belongsTo(Author, { as: "author", foreignKey: "authorId" });
Article.hasMany(Comment, { as: "comments" });

module.exports = { sequelize, Author, Article, Comment };
