class AuthorsController < ApplicationController
  def index
    @authors = Author.order(:name)
  end

  def popular
    @authors = Author.includes(:articles).limit(10)
  end

  def summary
    author = Author.find(params[:id])
    counts = {}
    %w[draft published].each do |status| # expect-not: articles
      counts[status] = author.articles.where(status: status).count
    end
    render json: counts
  end
end
