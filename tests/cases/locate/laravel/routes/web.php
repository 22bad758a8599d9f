<?php

use Illuminate\Support\Facades\Route;

Route::get('/', function () { // expect: handler home
    return view('welcome');
});
