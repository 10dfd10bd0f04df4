import { describe, expect, it } from 'vitest';
import { CohortClassifier, cohortValue, deviceFromUserAgent, requestCookie } from '../../src/segment/cohort.js';
import type { HeaderList } from '../../src/model/exchange.js';

const UA = {
  iphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  androidPhone:
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  androidTablet:
    'Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  ipad: 'Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1',
  kindle: 'Mozilla/5.0 (Linux; U; Android 4.0.3; en-us; KFTT Build/IML74K) AppleWebKit/537.36 (KHTML, like Gecko) Silk/3.68 like Chrome/39.0.2171.93 Safari/537.36',
  windowsChrome:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  macSafari:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  linuxFirefox: 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  googlebot: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  googlebotSmartphone:
    'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.60 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  bingbot: 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  curl: 'curl/8.5.0',
  wget: 'Wget/1.21.4',
  pythonRequests: 'python-requests/2.31.0',
  goClient: 'Go-http-client/1.1',
  headless:
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36',
  baiduspider: 'Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)',
  cubotPhone:
    'Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/90.0.4430.91 Mobile Safari/537.36',
  dalvik: 'Dalvik/2.1.0 (Linux; U; Android 11; Pixel 4a Build/RQ3A.210805.001.A1)',
} as const;

describe('deviceFromUserAgent', () => {
  const cases: Array<[string, string | undefined, string]> = [
    ['an iPhone is mobile', UA.iphone, 'mobile'],
    ['an Android phone (Mobile) is mobile', UA.androidPhone, 'mobile'],
    ['an Android device without Mobile is a tablet', UA.androidTablet, 'tablet'],
    ['an iPad is a tablet', UA.ipad, 'tablet'],
    ['a Kindle (Silk) is a tablet', UA.kindle, 'tablet'],
    ['Chrome on Windows is desktop', UA.windowsChrome, 'desktop'],
    ['Safari on a Mac is desktop', UA.macSafari, 'desktop'],
    ['Firefox on Linux is desktop', UA.linuxFirefox, 'desktop'],
    ['Googlebot is a bot', UA.googlebot, 'bot'],
    ["Googlebot's smartphone agent is a bot, not a phone", UA.googlebotSmartphone, 'bot'],
    ['bingbot is a bot', UA.bingbot, 'bot'],
    ['Baiduspider is a bot', UA.baiduspider, 'bot'],
    ['curl is a bot', UA.curl, 'bot'],
    ['wget is a bot', UA.wget, 'bot'],
    ['python-requests is a bot', UA.pythonRequests, 'bot'],
    ["Go's HTTP client is a bot", UA.goClient, 'bot'],
    ['headless Chrome is a bot', UA.headless, 'bot'],
    ['a CUBOT phone is a phone, not a bot', UA.cubotPhone, 'mobile'],
    ['an Android app (Dalvik) is mobile', UA.dalvik, 'mobile'],
    ['Firefox on an Android phone is mobile', 'Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0', 'mobile'],
    ['Firefox on an Android tablet is a tablet', 'Mozilla/5.0 (Android 14; Tablet; rv:125.0) Gecko/125.0 Firefox/125.0', 'tablet'],
    ['Samsung Internet on a phone is mobile', 'Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36', 'mobile'],
    ['Edge on Windows is desktop', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51', 'desktop'],
    ["Facebook's in-app browser on an iPhone is mobile", 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/460.0.0.38.108]', 'mobile'],
    ['Windows Phone is mobile', 'Mozilla/5.0 (compatible; MSIE 9.0; Windows Phone OS 7.5; Trident/5.0; IEMobile/9.0)', 'mobile'],
    ['an Android TV is counted desktop, not tablet', 'Mozilla/5.0 (Linux; Android 9; BRAVIA 4K GB Build/PTT1.190515.001.S52) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36', 'desktop'],
    ['an LG webOS TV is desktop', 'Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.88 Safari/537.36 WebAppManager', 'desktop'],
    ['Slack link previews are bots', 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)', 'bot'],
    ['facebookexternalhit is a bot', 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)', 'bot'],
    ['GPTBot is a bot', 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)', 'bot'],
    ['Bytespider is a bot', 'Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)', 'bot'],
    ['AhrefsBot is a bot', 'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)', 'bot'],
    ['no user agent at all counts as a bot', undefined, 'bot'],
    ['an empty user agent counts as a bot', '', 'bot'],
    ['an access log "-" counts as a bot', '-', 'bot'],
  ];
  it.each(cases)('%s', (_name, ua, expected) => {
    expect(deviceFromUserAgent(ua)).toBe(expected);
  });
});

describe('deviceFromUserAgent, real agents of each kind', () => {
  const cases: Array<[string, string, string]> = [
    // Desktop browsers
    ['Chrome on Windows is desktop', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'desktop'],
    ['Firefox on macOS is desktop', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0', 'desktop'],
    ['Opera on Windows is desktop', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0', 'desktop'],
    ['iPadOS Safari asking for the desktop site is desktop', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15', 'desktop'],
    // Mobile browsers
    ['Chrome on iOS is mobile', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1', 'mobile'],
    ['Chrome on a Galaxy phone is mobile', 'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36', 'mobile'],
    ['Instagram in-app browser on an iPhone is mobile', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 334.0.4.32.98 (iPhone15,2; iOS 17_5; en_US)', 'mobile'],
    // Tablets
    ['Safari on an iPad is a tablet', 'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', 'tablet'],
    ['Chrome on a Galaxy Tab is a tablet', 'Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'tablet'],
    // Native apps: a person on a phone, though isbot lists okhttp
    ['an Android app on okhttp is mobile', 'okhttp/4.12.0', 'mobile'],
    ['an Android app on Dalvik is mobile', 'Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/AP2A.240605.024)', 'mobile'],
    ['an iOS app on CFNetwork is mobile', 'MyShop/5.2.1 CFNetwork/1494.0.7 Darwin/23.4.0', 'mobile'],
    ['an iOS app on Alamofire is mobile', 'MyShop/5.2 (com.example.shop; build:812; iOS 17.4.1) Alamofire/5.8.0', 'mobile'],
    ['a Flutter app (dart:io) is mobile', 'Dart/3.4 (dart:io)', 'mobile'],
    // Crawlers
    ['Googlebot is a bot', 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'bot'],
    ['AdSense (Mediapartners-Google) is a bot', 'Mediapartners-Google', 'bot'],
    ['YandexBot is a bot', 'Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)', 'bot'],
    ['ClaudeBot is a bot', 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)', 'bot'],
    // Monitors and health checks
    ['the AWS load balancer health check is a bot', 'ELB-HealthChecker/2.0', 'bot'],
    ['a Kubernetes probe is a bot', 'kube-probe/1.29', 'bot'],
    ['the Google Cloud health check is a bot', 'GoogleHC/1.0', 'bot'],
    ['Prometheus scraping is a bot', 'Prometheus/2.51.2', 'bot'],
    ['the Datadog agent is a bot', 'Datadog Agent/7.54.0', 'bot'],
    ['Route 53 health checks are bots', 'Amazon-Route53-Health-Check-Service (ref 0c4b3e2a-1f5d-4c6e-9a7b-8d9e0f1a2b3c; report http://amzn.to/1vsZADi)', 'bot'],
    ['UptimeRobot is a bot', 'Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)', 'bot'],
    ['Consul health checks are bots', 'Consul Health Check', 'bot'],
    // Link previewers
    ['Slack link expansion is a bot', 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)', 'bot'],
    ['Facebook link previews are bots', 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)', 'bot'],
    ['Twitterbot is a bot', 'Twitterbot/1.0', 'bot'],
    ['WhatsApp link previews are bots', 'WhatsApp/2.23.20.0', 'bot'],
    ['Discord link previews are bots', 'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)', 'bot'],
    ['LinkedIn link previews are bots', 'LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)', 'bot'],
    // Tools and load generators: automated, never a device cohort
    ['k6 is a bot', 'k6/0.52.0 (https://k6.io/)', 'bot'],
    ['Apache JMeter is a bot', 'Apache-HttpClient/4.5.14 (Java/17.0.11)', 'bot'],
    ['Postman is a bot', 'PostmanRuntime/7.39.0', 'bot'],
  ];
  it.each(cases)('%s', (_name, ua, expected) => {
    expect(deviceFromUserAgent(ua)).toBe(expected);
  });
});

describe('CohortClassifier', () => {
  const h = (...pairs: Array<[string, string]>): HeaderList => pairs;

  it('gives device, region and auth by default', () => {
    const c = new CohortClassifier();
    expect(c.classify(h(['user-agent', UA.iphone], ['x-region', 'EU']), false)).toEqual({
      device: 'mobile',
      region: 'eu',
      auth: 'anonymous',
    });
  });

  it('reads region from the first of x-region, cf-ipcountry, x-geo-country', () => {
    const c = new CohortClassifier();
    expect(c.classify(h(['x-geo-country', 'US'], ['cf-ipcountry', 'DE']), true).region).toBe('de');
    expect(c.classify(h(['x-geo-country', 'US']), true).region).toBe('us');
  });

  it('says unknown when no region header is present', () => {
    expect(new CohortClassifier().classify([], false).region).toBe('unknown');
  });

  it('says signed-in when the sessionizer says so', () => {
    expect(new CohortClassifier().classify([], true).auth).toBe('signed-in');
  });

  it('lets a scenario rule map the built-in region', () => {
    const c = new CohortClassifier([{ name: 'region', map: { de: 'eu', fr: 'eu', us: 'na' }, default: 'other' }]);
    expect(c.classify(h(['x-region', 'DE']), false).region).toBe('eu');
    expect(c.classify(h(['x-region', 'JP']), false).region).toBe('other');
    expect(c.classify([], false).region).toBe('other');
  });

  it('lets a scenario rule replace a built-in source', () => {
    const c = new CohortClassifier([{ name: 'region', header: ['x-datacenter'] }]);
    expect(c.classify(h(['x-region', 'eu'], ['x-datacenter', 'FRA1']), false).region).toBe('fra1');
  });

  it('adds attributes from a header, first present wins', () => {
    const c = new CohortClassifier([{ name: 'plan', header: ['x-plan', 'x-tier'] }]);
    expect(c.classify(h(['x-tier', 'Gold'], ['x-plan', 'Pro']), false).plan).toBe('pro');
    expect(c.classify(h(['x-tier', 'Gold']), false).plan).toBe('gold');
  });

  it('adds attributes from a cookie', () => {
    const c = new CohortClassifier([{ name: 'ab', cookie: 'exp', map: { a: 'control', b: 'variant' } }]);
    expect(c.classify(h(['cookie', 'sid=1; exp=b; x=y']), false).ab).toBe('variant');
    expect(c.classify(h(['cookie', 'sid=1']), false).ab).toBe('unknown');
  });

  it('keeps an unmapped value when no default is given', () => {
    const c = new CohortClassifier([{ name: 'app', header: ['x-app'], map: { ios: 'apple' } }]);
    expect(c.classify(h(['x-app', 'android']), false).app).toBe('android');
  });

  it('keeps segment-key separators out of values', () => {
    const c = new CohortClassifier([{ name: 'plan', header: ['x-plan'] }]);
    expect(c.classify(h(['x-plan', 'a|b,c=d e']), false).plan).toBe('a_b_c_d_e');
  });
});

describe('helpers', () => {
  it('cohortValue cuts values to 64 characters', () => {
    expect(cohortValue('x'.repeat(100))).toHaveLength(64);
  });
  it('requestCookie finds a cookie among several headers', () => {
    expect(requestCookie([['cookie', 'a=1'], ['cookie', 'b=2; c=3']], 'c')).toBe('3');
    expect(requestCookie([['cookie', 'ab=1']], 'a')).toBeUndefined();
  });
});
