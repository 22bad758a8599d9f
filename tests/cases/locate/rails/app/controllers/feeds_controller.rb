class FeedsController < ApplicationController
  def show
    ids = Comment.where(created_at: 1.day.ago..).pluck(:user_id)
    emails = ids.map { |id| User.find(id).email } # expect: P001 accounts
    render json: emails
  end
end
