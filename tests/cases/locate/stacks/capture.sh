#!/usr/bin/env bash
# Capture the stack traces of tests/cases/locate/stacks/*.stack from real runs: each app below
# is copied to a deploy path (/tmp/logtriage-deploy/releases/42/, as Capistrano lays releases
# out), calls into a library installed where that language keeps its libraries
# (site-packages, gems, node_modules, vendor, the JVM's org.hibernate, Go's module cache), and
# the library fails. The captured text is what the runtime prints, unchanged.
# Needs: python3, ruby, node, php-cli, a JDK and golang-go (Debian packages).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DEPLOY=/tmp/logtriage-deploy/releases/42
rm -rf /tmp/logtriage-deploy && mkdir -p "$DEPLOY"

# Python: a framework dispatcher and an ORM in site-packages around the app's view.
P=$DEPLOY/python && cp -r "$HERE/python" "$P"
SP=$P/.venv/lib/python3.11/site-packages && mkdir -p "$SP/orm" "$SP/framework"
printf 'def load(table, key):\n    raise LookupError(f"{table} {key} not found")\n' > "$SP/orm/__init__.py"
printf 'import traceback\n\ndef dispatch(view, *args):\n    try:\n        return view(*args)\n    except Exception:\n        print(traceback.format_exc(), end="")\n' > "$SP/framework/__init__.py"
(cd "$P" && PYTHONPATH="$SP:$P" python3 -c 'import framework; from app.views import show_order; framework.dispatch(show_order, 7)') > "$HERE/python.stack"

# Ruby: ActiveRecord-like code under vendor/bundle/…/gems, Rails' full_message format.
R=$DEPLOY/ruby && cp -r "$HERE/ruby" "$R"
GEM=$R/vendor/bundle/ruby/3.1.0/gems/activerecord-7.1.3/lib && mkdir -p "$GEM/active_record"
printf 'module ActiveRecord\n  module Core\n    def self.find(table, id)\n      raise KeyError, "Couldn'"'"'t find #{table} with id=#{id}"\n    end\n  end\nend\n' > "$GEM/active_record/core.rb"
(cd "$R" && ruby -I"$GEM" -e 'require "./app/controllers/orders_controller"; begin; OrdersController.new.show(7); rescue => e; print e.full_message(highlight: false); end') > "$HERE/ruby.stack"

# Node.js: an ORM in node_modules, the error's stack as console.error prints it.
N=$DEPLOY/node && cp -r "$HERE/node" "$N" && mkdir -p "$N/node_modules/orm"
printf 'exports.load = async (table, id) => { throw new Error(`${table} ${id} not found`); };\n' > "$N/node_modules/orm/index.js"
(cd "$N" && node -e 'require("./app/routes/orders").showOrder({ params: { id: 7 } }).catch((e) => process.stdout.write(e.stack + "\n"))') > "$HERE/node.stack"

# PHP: a query builder under vendor/laravel/framework, PHP's uncaught-exception text.
H=$DEPLOY/php && cp -r "$HERE/php" "$H" && mkdir -p "$H/vendor/laravel/framework/src/Illuminate/Database"
printf '<?php\nnamespace Illuminate\\Database;\nclass Query {\n    public static function find($table, $id) {\n        throw new \\RuntimeException("$table $id not found");\n    }\n}\n' > "$H/vendor/laravel/framework/src/Illuminate/Database/Query.php"
(cd "$H" && php -r 'require "vendor/laravel/framework/src/Illuminate/Database/Query.php"; require "app/Http/Controllers/OrderController.php"; try { (new App\Http\Controllers\OrderController)->show(7); } catch (Throwable $e) { echo $e, "\n"; }') > "$HERE/php.stack"

# Java: a Hibernate-like session whose failure is wrapped, as frameworks do ("Caused by").
J=$DEPLOY/java && cp -r "$HERE/java" "$J" && mkdir -p "$J/lib/org/hibernate/internal" "$J/lib/org/springframework/web"
printf 'package org.hibernate.internal;\npublic class SessionImpl {\n    public Object load(String table, long id) {\n        throw new IllegalStateException(table + " " + id + " not found");\n    }\n}\n' > "$J/lib/org/hibernate/internal/SessionImpl.java"
printf 'package org.springframework.web;\npublic class Dispatcher {\n    public static void main(String[] args) {\n        try {\n            new com.example.shop.OrderController().show(7);\n        } catch (RuntimeException e) {\n            new RuntimeException("Request processing failed", e).printStackTrace(System.out);\n        }\n    }\n}\n' > "$J/lib/org/springframework/web/Dispatcher.java"
(cd "$J" && javac -d out lib/org/hibernate/internal/SessionImpl.java src/main/java/com/example/shop/OrderController.java lib/org/springframework/web/Dispatcher.java && java -cp out org.springframework.web.Dispatcher) > "$HERE/java.stack"

# Go: a library in the module cache (GOMODCACHE layout), the panic's goroutine trace.
G=$DEPLOY/go && cp -r "$HERE/go" "$G"
LIB=/tmp/logtriage-deploy/gopath/pkg/mod/github.com/lib/orm@v1.0.0 && mkdir -p "$LIB"
printf 'module github.com/lib/orm\n\ngo 1.19\n' > "$LIB/go.mod"
printf 'package orm\n\nimport "fmt"\n\nfunc Load(table string, id int) int {\n\tpanic(fmt.Sprintf("%%s %%d not found", table, id))\n}\n' > "$LIB/orm.go"
printf 'module example.com/shop\n\ngo 1.19\n\nrequire github.com/lib/orm v1.0.0\n\nreplace github.com/lib/orm => %s\n' "$LIB" > "$G/go.mod"
printf 'package main\n\nfunc main() { showOrder(7) }\n' > "$G/cmd/shop/main.go"
(cd "$G" && GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local go build -o shop ./cmd/shop && ./shop 2>&1 || true) > "$HERE/go.stack"
rm -rf /tmp/logtriage-deploy
