Rails.application.routes.draw do
  root "home#index"
  resources :articles, only: [:index, :show] do
    resources :comments, only: [:index]
    member do
      get :stats
    end
  end
  get "feed" => "feeds#show"
  get "/authors/:id/summary", to: "authors#summary"
  resources :authors, only: [:index] do
    get :popular, on: :collection
  end
  namespace :admin do
    resources :reports, only: [:index]
  end
end
