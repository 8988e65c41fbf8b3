import time
def test_time(postgres_server):
    for strategy in ["", " STRATEGY FILE_COPY", " STRATEGY WAL_LOG", " TEMPLATE template0 STRATEGY FILE_COPY"]:
        ts=[]
        for i in range(5):
            t=time.perf_counter(); name=f"t{i}x{abs(hash(strategy))}"
            postgres_server.admin_execute(f'CREATE DATABASE "{name}"{strategy}'); ts.append(time.perf_counter()-t)
            postgres_server.drop_database(name)
        print(strategy, ["%.3f"%x for x in ts])
