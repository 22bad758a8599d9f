class CommentsController < ApplicationController
  def index
    comments = Comment.includes(:user).where(article_id: params[:article_id])
    render json: comments.map { |c| { body: c.body, by: c.user.email } } # expect-not: accounts
  end
end
