class AuthorsController < ApplicationController
  def summary
    author = Author.find(params[:id])
    counts = {}
    %w[draft published].each do |status| # expect-not: articles
      counts[status] = author.articles.where(status: status).count
    end
    render json: counts
  end
end
