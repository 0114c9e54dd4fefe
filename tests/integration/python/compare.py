"""compare.py PORT_A PORT_B [REPLAY.jsonl]: sends every request of the
Grafana replay (placeholders filled as test_grafana_replay.c does) and a
set of range, instant and discovery queries to two servers and compares
status and body byte for byte. Prints one ok/FAIL line per request and
    COUNTS passed failed skipped
Run by tests/integration/python.sh with Debian's /usr/bin/python3."""

import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def fetch(port, method, path, raw, headers, post):
    url = f'http://127.0.0.1:{port}{path}'
    data = None
    if post:
        data = raw.encode()
    elif raw:
        url += '?' + raw
    req = urllib.request.Request(url, data=data, method=method)
    for k, v in headers.items():
        if k.lower() not in ('accept-encoding', 'content-length', 'host'):
            req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main():
    a, b = sys.argv[1], sys.argv[2]
    now = int(time.time())
    end = now // 60 * 60
    subst = {
        '{END}': str(end), '{START}': str(end - 3600), '{STEP}': '15',
        '{TIME}': f'{end + 12}.345',
        '{START_MS}': str((now - 1800) * 1000), '{END_MS}': str(now * 1000),
    }
    requests = []
    if len(sys.argv) > 3:
        with open(sys.argv[3]) as f:
            for line in f:
                if line.strip():
                    requests.append(json.loads(line))
    q = urllib.parse.quote
    s, e = end - 3600, end
    sine = q('example_metric{type="sine"}')
    by_amp = q('sum by (amplitude) (example_metric)')
    rate = q('rate(example_metric[5m])')
    amp15 = q('example_metric{amplitude=~"1|5"}')
    offset = q('example_metric offset 5m')
    matrix = q('example_metric[2m]')
    subq = q('max_over_time(example_metric[10m:1m])')
    stamp = q('timestamp(example_metric)')
    amp5 = q('example_metric{amplitude="5"}')
    square = q('{type="square"}')
    cosine = q('example_metric{type="cosine"}')
    extra = [
        ('query_range', f'query=example_metric&start={s}&end={e}&step=15'),
        ('query_range', f'query=example_metric&start={s}&end={e - 7}&step=60'),
        ('query_range', f'query={sine}&start={s}.5&end={e}&step=7'),
        ('query_range', f'query={by_amp}&start={s}&end={e}&step=30'),
        ('query_range', f'query={rate}&start={s}&end={e}&step=15'),
        ('query', f'query=example_metric&time={e}.123'),
        ('query', f'query={amp15}&time={e}'),
        ('query', f'query={offset}&time={e}'),
        ('query', f'query={matrix}&time={e}'),
        ('query', f'query={subq}&time={e}'),
        ('query', f'query={stamp}&time={e - 3}'),
        ('query', 'query=example_metric&time=-100'),
        ('series', f'match[]={amp5}&start={s}&end={e}'),
        ('series', f'match[]={square}'),
        ('labels', ''),
        ('labels', f'match[]=example_metric&start={s}&end={e}'),
        ('label/type/values', ''),
        ('label/amplitude/values', f'match[]={cosine}'),
        ('label/__name__/values', ''),
        ('metadata', ''),
        ('metadata', 'metric=example_metric'),
    ]
    for path, raw in extra:
        requests.append({'name': 'extra ' + path + '?' + raw[:60],
                         'method': 'GET', 'path': '/api/v1/' + path,
                         'raw': raw, 'headers': {}})
    passed = failed = 0
    for r in requests:
        raw = r.get('raw', '')
        for k, v in subst.items():
            raw = raw.replace(k, v)
        post = r.get('body') == 'urlencoded'
        args = (r['method'], r['path'], raw, r.get('headers', {}), post)
        ra, rb = fetch(a, *args), fetch(b, *args)
        if ra == rb:
            passed += 1
            print(f'ok   same answer: {r["name"]} ({ra[0]}, {len(ra[1])} bytes)')
        else:
            failed += 1
            print(f'FAIL different answers: {r["name"]}: {ra[0]} {ra[1][:300]!r}'
                  f' vs {rb[0]} {rb[1][:300]!r}')
    print(f'COUNTS {passed} {failed} 0')


main()
