# A one-file Rails app driven in-process, for capturing Rails log cases (see capture.sh):
# `json` logs one lograge JSON line per request; `text` logs Rails' default tagged lines.
require "logger"
require "json"
require "action_controller/railtie"
require "lograge"

MODE = ARGV.fetch(0, "text")

class ShopApp < Rails::Application
  config.root = __dir__
  config.eager_load = false
  config.consider_all_requests_local = false
  config.secret_key_base = "c" * 64
  config.hosts.clear
  config.log_level = :info
  if MODE == "json"
    config.logger = ActiveSupport::Logger.new($stdout)
    config.lograge.enabled = true
    config.lograge.formatter = Lograge::Formatters::Json.new
    config.lograge.custom_options = lambda do |event|
      { time: Time.now.utc.iso8601(3), request_id: event.payload[:request_id] }
    end
    config.lograge.custom_payload { |controller| { request_id: controller.request.request_id } }
  else
    # As the production.rb Rails generates: Logger::Formatter, request ids as tags.
    logger = ActiveSupport::Logger.new($stdout)
    logger.formatter = ::Logger::Formatter.new
    config.logger = ActiveSupport::TaggedLogging.new(logger)
    config.log_tags = [:request_id]
  end
  routes.append do
    get "/orders/:id" => "orders#show"
    get "/divide/:n" => "orders#divide"
  end
end

class OrdersController < ActionController::Base
  def show
    render json: { id: params[:id].to_i }
  end

  def divide
    render json: { result: 100 / params[:n].to_i }
  end
end

ShopApp.initialize!
app = Rack::MockRequest.new(Rails.application)
app.get("/orders/42", "HTTP_X_REQUEST_ID" => "5b0f6e1c-9a7d-4e2b-8c3a-1d2e3f4a5b6c")
app.get("/divide/0", "HTTP_X_REQUEST_ID" => "req-divide-0")
app.get("/missing")
app.get("/orders/7")
