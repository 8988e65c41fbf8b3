import time
def test_time(postgres_server):
    from bot.settings import Settings
    from tests.leads.factories import migrated_database
    from bot.db import make_engine, upgrade_database
    tmpl = postgres_server.create_database("tmpl")
    e = make_engine(Settings(database_url=postgres_server.url(tmpl))); upgrade_database(e); e.dispose()
    for i in range(4):
        t=time.perf_counter(); name=postgres_server.create_database(); t1=time.perf_counter()
        with migrated_database(Settings(database_url=postgres_server.url(name))): t2=time.perf_counter()
        postgres_server.drop_database(name); t3=time.perf_counter()
        name = f"fromtmpl{i}"; postgres_server.admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{tmpl}"'); t4=time.perf_counter()
        with migrated_database(Settings(database_url=postgres_server.url(name))): t5=time.perf_counter()
        postgres_server.drop_database(name)
        print(f"create {t1-t:.3f} migrate {t2-t1:.3f} drop {t3-t2:.3f} | tmpl create {t4-t3:.3f} noop-upgrade {t5-t4:.3f}")
