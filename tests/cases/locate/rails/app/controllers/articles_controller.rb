class ArticlesController < ApplicationController
  def index
    articles = Article.order(created_at: :desc).limit(50)
    payload = articles.map do |article| # expect: P001 authors
      { title: article.title, author: article.author.name }
    end
    render json: payload
  end

  def show
    article = Article.find(params[:id])
    render json: article
  end

  def stats # expect: handler stats
    article = Article.find(params[:id])
    render json: { words: article.body.split.size }
  end
end
