require "active_record/core"

class OrdersController
  def show(id)
    order = ActiveRecord::Core.find("orders", id) # expect: own frame
    { id: id, total: order[:total] }
  end
end
