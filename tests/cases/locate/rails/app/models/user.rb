class User < ApplicationRecord
  self.table_name = "accounts"
end
