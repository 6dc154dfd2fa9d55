/*
 * The Autobahn|Testsuite client driver loop, written against the WHATWG
 * WebSocket API only, so the same code drives a browser's WebSocket (loaded
 * into a page as a classic script), undici's and ws's: ask /getCaseCount,
 * run every case echoing each message back as it came (text as text, binary
 * as binary), then /updateReports. Defines globalThis.runAutobahnDriver.
 */
(function () {
  function connect(WebSocketClass, url, onMessage) {
    return new Promise(function (resolve) {
      var ws = new WebSocketClass(url);
      ws.binaryType = 'arraybuffer';
      ws.onmessage = function (event) {
        onMessage(ws, event.data);
      };
      // An error is always followed by close; the case's verdict is the server's to give.
      ws.onerror = function () {};
      ws.onclose = function () {
        resolve();
      };
    });
  }

  async function runAutobahnDriver(WebSocketClass, base, agent) {
    var count = 0;
    await connect(WebSocketClass, base + '/getCaseCount', function (_ws, data) {
      count = Number(data);
    });
    if (!(count > 0)) throw new Error('no case count from ' + base + '/getCaseCount');
    for (var i = 1; i <= count; i++) {
      await connect(WebSocketClass, base + '/runCase?case=' + i + '&agent=' + encodeURIComponent(agent), function (ws, data) {
        ws.send(data);
      });
    }
    await connect(WebSocketClass, base + '/updateReports?agent=' + encodeURIComponent(agent), function () {});
    return count;
  }

  globalThis.runAutobahnDriver = runAutobahnDriver;
})();
