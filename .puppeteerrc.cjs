// whatsapp-web.js pulls in puppeteer: never download a browser (offline machines); use Debian's chromium.
module.exports = { skipDownload: true };
