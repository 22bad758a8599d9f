class Author < ApplicationRecord
  has_many :articles
end
