// A tiny Node program that logs through pino or bunyan (argv[2]) and logs real errors,
// for capturing app-log cases (see capture.sh).
'use strict';
const kind = process.argv[2];
const log = kind === 'bunyan'
  ? require('bunyan').createLogger({ name: 'shop', serializers: require('bunyan').stdSerializers })
  : require('pino')({ name: 'shop' });

function loadCart(cart) {
  return cart.items.length; // TypeError for a missing cart
}

log.info({ reqId: 'req-1', order_id: 42 }, 'order loaded');
log.warn({ reqId: 'req-2', wait_ms: 812 }, 'payment provider slow');
try {
  loadCart(undefined);
} catch (err) {
  log.error({ err, reqId: 'req-3', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' }, 'checkout failed');
}
try {
  JSON.parse('{bad json');
} catch (err) {
  log.fatal({ err }, 'config unreadable');
}
log.debug('not shown at the default level');
log.info('shutting down');
