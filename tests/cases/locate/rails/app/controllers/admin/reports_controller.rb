module Admin
  class ReportsController < ApplicationController
    def index # expect: handler admin reports
      rows = ActiveRecord::Base.connection.select_all(
        "SELECT author_id, count(*) FROM articles WHERE status = 'published' GROUP BY author_id" # expect: P005 raw sql
      )
      render json: rows
    end
  end
end
